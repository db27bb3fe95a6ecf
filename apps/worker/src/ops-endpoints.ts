import type { Registry } from 'prom-client';
import { WorkerHealthSchema, type WorkerHealth } from '@chorus/protocol';
import { startOpsServer, type OpsServer } from './ops-server';

export interface OpsEndpoints {
  metricsUrl?: string;
  healthUrl?: string;
  close(): Promise<void>;
}

/**
 * The worker's operations endpoints (README "Metrics", "Health and draining"): GET /metrics on
 * `metricsPort`, GET /health on `healthPort` (200 while connected, 503 otherwise), one server when
 * both name the same port. Neither is served unless asked for.
 */
export async function startOpsEndpoints(options: {
  host: string;
  metricsPort?: number;
  healthPort?: number;
  registry: Registry;
  health: () => WorkerHealth;
}): Promise<OpsEndpoints> {
  const health = async () => {
    const body = WorkerHealthSchema.parse(options.health());
    return {
      status: body.connected ? 200 : 503,
      contentType: 'application/json',
      body: JSON.stringify(body),
    };
  };
  const metrics = async () => ({
    status: 200,
    contentType: options.registry.contentType,
    body: await options.registry.metrics(),
  });
  const { host, metricsPort, healthPort } = options;
  const servers: OpsServer[] = [];
  const close = async () => void (await Promise.allSettled(servers.map((s) => s.close())));
  try {
    if (metricsPort !== undefined && metricsPort === healthPort && metricsPort !== 0) {
      const server = await startOpsServer({
        host,
        port: metricsPort,
        routes: { '/metrics': metrics, '/health': health },
      });
      servers.push(server);
      return { metricsUrl: server.url, healthUrl: server.url, close };
    }
    const urls: { metricsUrl?: string; healthUrl?: string } = {};
    if (metricsPort !== undefined) {
      const server = await startOpsServer({ host, port: metricsPort, routes: { '/metrics': metrics } });
      servers.push(server);
      urls.metricsUrl = server.url;
    }
    if (healthPort !== undefined) {
      const server = await startOpsServer({ host, port: healthPort, routes: { '/health': health } });
      servers.push(server);
      urls.healthUrl = server.url;
    }
    return { ...urls, close };
  } catch (error) {
    await close();
    throw error;
  }
}
