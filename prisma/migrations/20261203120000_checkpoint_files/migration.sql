-- A checkpoint uploaded over HTTP (beyond the socket's 16 MiB) is stored as a file under the
-- coordinator's data dir: the row holds its path, sha256 and size instead of the bytes.
ALTER TABLE "Checkpoint" ALTER COLUMN "weights" DROP NOT NULL;
ALTER TABLE "Checkpoint" ADD COLUMN "file" TEXT,
ADD COLUMN "sha256" TEXT,
ADD COLUMN "size" INTEGER;
-- Exactly one of the two holds the bytes.
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_bytes_or_file" CHECK (("weights" IS NULL) <> ("file" IS NULL));
