/** Shared by the run's route handlers: ids are cuids (letters, digits, _ and -). */
export const runIdOf = (id: string): string | null => (/^[\w-]{1,64}$/.test(id) ? id : null);

export const jsonError = (status: number, message: string): Response =>
  Response.json({ ok: false, message }, { status, headers: { 'cache-control': 'no-store' } });
