-- Checkpoint weights are float32 bytes that do not compress: store them out of line without
-- trying (pglz spent most of a 4.8 MB write failing to compress it). Nothing stored changes.
ALTER TABLE "Checkpoint" ALTER COLUMN "weights" SET STORAGE EXTERNAL;
