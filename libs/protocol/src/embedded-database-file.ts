import { z } from 'zod';

/** The file in the coordinator's data dir naming its embedded database while it runs (mode 0600). */
export const EMBEDDED_DATABASE_FILE = 'embedded-database.json';

/**
 * `<dataDir>/embedded-database.json`: written by a coordinator on the embedded database at every
 * start (the port changes from start to start), removed at shutdown; read by `chorus dashboard`
 * and, on every request, by the dashboard server (README.md, "The dashboard").
 */
export const EmbeddedDatabaseFileSchema = z.object({
  connectionString: z.string().regex(/^postgres(ql)?:\/\//),
  pid: z.number().int(),
});
export type EmbeddedDatabaseFile = z.infer<typeof EmbeddedDatabaseFileSchema>;
