-- Straggler handover is remembered with the member, so a restarted coordinator neither asks for it
-- twice nor forgets the extra attempt it granted: "handoverAskedAt" is when its holder was asked to
-- hand it over (at most once), "handovers" how many leases ended by a handover (not failures).
ALTER TABLE "Member" ADD COLUMN "handoverAskedAt" TIMESTAMP(3);
ALTER TABLE "Member" ADD COLUMN "handovers" INTEGER NOT NULL DEFAULT 0;
