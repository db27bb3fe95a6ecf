-- A worker's identity is its id plus a session secret the coordinator issues at its first
-- registration: only the secret's sha256 is kept. Rows from before have none, and their ids are refused.
ALTER TABLE "Worker" ADD COLUMN "secretHash" TEXT;
-- Leases that ended because the member's stored checkpoint did not load: not failures of the member.
ALTER TABLE "Member" ADD COLUMN "checkpointFailures" INTEGER NOT NULL DEFAULT 0;
