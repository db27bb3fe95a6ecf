-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "WorkerStatus" AS ENUM ('online', 'offline');

-- CreateEnum
CREATE TYPE "RunStatus" AS ENUM ('pending', 'running', 'completed', 'failed', 'cancelled');

-- CreateEnum
CREATE TYPE "MemberStatus" AS ENUM ('pending', 'leased', 'running', 'completed', 'failed');

-- CreateEnum
CREATE TYPE "Split" AS ENUM ('validation', 'test');

-- CreateTable
CREATE TABLE "Worker" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "host" TEXT NOT NULL,
    "backend" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "slots" INTEGER NOT NULL DEFAULT 1,
    "status" "WorkerStatus" NOT NULL DEFAULT 'online',
    "lastSeenAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Worker_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Run" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "config" JSONB NOT NULL,
    "status" "RunStatus" NOT NULL DEFAULT 'pending',
    "seed" INTEGER NOT NULL,
    "datasetName" TEXT NOT NULL,
    "datasetSha256" TEXT,
    "numClasses" INTEGER NOT NULL,
    "error" TEXT,
    "result" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "startedAt" TIMESTAMP(3),
    "finishedAt" TIMESTAMP(3),

    CONSTRAINT "Run_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Member" (
    "id" TEXT NOT NULL,
    "runId" TEXT NOT NULL,
    "index" INTEGER NOT NULL,
    "overrides" JSONB NOT NULL DEFAULT '{}',
    "status" "MemberStatus" NOT NULL DEFAULT 'pending',
    "workerId" TEXT,
    "leaseExpiresAt" TIMESTAMP(3),
    "attempt" INTEGER NOT NULL DEFAULT 0,
    "step" INTEGER NOT NULL DEFAULT 0,
    "epoch" INTEGER NOT NULL DEFAULT 0,
    "planOffset" INTEGER NOT NULL DEFAULT 0,
    "samples" INTEGER NOT NULL DEFAULT 0,
    "valAccuracy" DOUBLE PRECISION,
    "testAccuracy" DOUBLE PRECISION,
    "samplesPerSecond" DOUBLE PRECISION,
    "error" TEXT,

    CONSTRAINT "Member_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "MetricPoint" (
    "memberId" TEXT NOT NULL,
    "step" INTEGER NOT NULL,
    "epoch" INTEGER NOT NULL,
    "loss" DOUBLE PRECISION NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "samplesPerSecond" DOUBLE PRECISION NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "MetricPoint_pkey" PRIMARY KEY ("memberId","step")
);

-- CreateTable
CREATE TABLE "Prediction" (
    "memberId" TEXT NOT NULL,
    "split" "Split" NOT NULL,
    "round" INTEGER NOT NULL,
    "probabilities" BYTEA NOT NULL,
    "rows" INTEGER NOT NULL,
    "numClasses" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Prediction_pkey" PRIMARY KEY ("memberId","split","round")
);

-- CreateTable
CREATE TABLE "EnsembleEval" (
    "runId" TEXT NOT NULL,
    "round" INTEGER NOT NULL,
    "split" "Split" NOT NULL,
    "strategy" TEXT NOT NULL,
    "accuracy" DOUBLE PRECISION NOT NULL,
    "nll" DOUBLE PRECISION NOT NULL,
    "brier" DOUBLE PRECISION NOT NULL,
    "ece" DOUBLE PRECISION NOT NULL,
    "gainOverBest" DOUBLE PRECISION NOT NULL,
    "gainOverMean" DOUBLE PRECISION NOT NULL,
    "memberCount" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "EnsembleEval_pkey" PRIMARY KEY ("runId","round","split","strategy")
);

-- CreateTable
CREATE TABLE "DiversityEval" (
    "runId" TEXT NOT NULL,
    "round" INTEGER NOT NULL,
    "split" "Split" NOT NULL,
    "pairwise" JSONB NOT NULL,
    "summary" JSONB NOT NULL,
    "memberCount" INTEGER NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "DiversityEval_pkey" PRIMARY KEY ("runId","round","split")
);

-- CreateTable
CREATE TABLE "Checkpoint" (
    "memberId" TEXT NOT NULL,
    "epoch" INTEGER NOT NULL,
    "step" INTEGER NOT NULL,
    "planOffset" INTEGER NOT NULL,
    "weights" BYTEA NOT NULL,
    "weightSpecs" JSONB,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "Checkpoint_pkey" PRIMARY KEY ("memberId","epoch")
);

-- CreateIndex
CREATE INDEX "Worker_status_lastSeenAt_idx" ON "Worker"("status", "lastSeenAt");

-- CreateIndex
CREATE INDEX "Run_createdAt_idx" ON "Run"("createdAt");

-- CreateIndex
CREATE INDEX "Run_status_createdAt_idx" ON "Run"("status", "createdAt");

-- CreateIndex
CREATE INDEX "Member_status_leaseExpiresAt_idx" ON "Member"("status", "leaseExpiresAt");

-- CreateIndex
CREATE INDEX "Member_workerId_idx" ON "Member"("workerId");

-- CreateIndex
CREATE UNIQUE INDEX "Member_runId_index_key" ON "Member"("runId", "index");

-- AddForeignKey
ALTER TABLE "Member" ADD CONSTRAINT "Member_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Member" ADD CONSTRAINT "Member_workerId_fkey" FOREIGN KEY ("workerId") REFERENCES "Worker"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "MetricPoint" ADD CONSTRAINT "MetricPoint_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Prediction" ADD CONSTRAINT "Prediction_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "EnsembleEval" ADD CONSTRAINT "EnsembleEval_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "DiversityEval" ADD CONSTRAINT "DiversityEval_runId_fkey" FOREIGN KEY ("runId") REFERENCES "Run"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Checkpoint" ADD CONSTRAINT "Checkpoint_memberId_fkey" FOREIGN KEY ("memberId") REFERENCES "Member"("id") ON DELETE CASCADE ON UPDATE CASCADE;

