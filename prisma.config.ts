// Prisma CLI configuration (Prisma 7 reads the datasource URL from here, not from schema.prisma).
// `prisma generate` needs no database; `prisma migrate deploy` uses DATABASE_URL when it is set.
import { defineConfig } from 'prisma/config';

const url = process.env.DATABASE_URL;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  ...(url ? { datasource: { url } } : {}),
});
