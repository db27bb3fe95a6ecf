import { z } from 'zod';
import { DATASET_KINDS } from './run-config';

/**
 * What was done to a dataset's features after they were read, with the statistics an export needs
 * to apply the same to new samples: `x' = (x - mean) / std` (standard) or `x' = (x - min) / (max - min)`
 * (minmax), per feature, statistics of the training split only (a constant feature gets std 1 /
 * range 1). `scale`: raw values were divided by it first (uint8 images: 255).
 */
/**
 * How an `images` dataset's files became samples (libs/data images-dataset.ts): each image
 * flattened onto black (alpha), stretched to height × width (`fit: fill`, aspect ratio not kept;
 * a no-op when the files had that size), converted to `channels` (1: grayscale, 3: sRGB); then
 * divided by the preprocess's `scale` (255).
 */
export const ImagePreprocessSchema = z
  .object({
    height: z.number().int().min(1),
    width: z.number().int().min(1),
    channels: z.union([z.literal(1), z.literal(3)]),
    fit: z.literal('fill'),
    alpha: z.literal('flatten-black'),
  })
  .strict();

export const DatasetPreprocessSchema = z.discriminatedUnion('normalize', [
  z
    .object({ normalize: z.literal('none'), scale: z.number().positive().optional(), image: ImagePreprocessSchema.optional() })
    .strict(),
  z
    .object({
      normalize: z.literal('standard'),
      scale: z.number().positive().optional(),
      mean: z.array(z.number()),
      std: z.array(z.number().positive()),
    })
    .strict(),
  z
    .object({
      normalize: z.literal('minmax'),
      scale: z.number().positive().optional(),
      min: z.array(z.number()),
      max: z.array(z.number()),
    })
    .strict(),
]);
export type DatasetPreprocess = z.output<typeof DatasetPreprocessSchema>;

/** The JSON header of a dataset bundle (libs/data bundle.ts describes the byte layout around it). */
export const DatasetBundleHeaderSchema = z
  .object({
    name: z.enum(DATASET_KINDS),
    inputShape: z.array(z.number().int().min(1)).min(1),
    numClasses: z.number().int().min(2).max(10_000),
    sha256: z.string().regex(/^[0-9a-f]{64}$/),
    source: z.string(),
    classNames: z.array(z.string()).optional(),
    preprocess: DatasetPreprocessSchema.optional(),
    trainCount: z.number().int().min(0),
    testCount: z.number().int().min(0),
    x: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('u8'), scale: z.number().positive() }).strict(),
      z.object({ kind: z.literal('f32') }).strict(),
    ]),
    y: z.enum(['u8', 'i32']),
  })
  .strict();
export type DatasetBundleHeader = z.output<typeof DatasetBundleHeaderSchema>;
