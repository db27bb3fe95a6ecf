import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChorusError } from '../errors';
import { parseRunConfig } from '../run-config';
import {
  DashboardHttpError,
  encodeDashboardAnswer,
  fetchDashboardRoute,
  type RunState,
  type XY,
} from './dashboard-routes';

/** A run state as the dashboard server builds it (dates as Dates), small but complete. */
const state: RunState = {
  run: {
    id: 'r1',
    name: 'routes test',
    status: 'running',
    datasetName: 'synthetic',
    model: 'mlp',
    modelFile: null,
    members: [
      {
        id: 'm0',
        index: 0,
        status: 'running',
        workerId: 'w1',
        attempt: 1,
        leaseExpiresAt: new Date('2026-12-03T15:00:30.000Z'),
        overrides: {},
        step: 5,
        epoch: 0,
        planOffset: 0,
        samples: 160,
        totalBatches: 10,
        progress: 0.5,
        samplesPerSecond: 100,
        valAccuracy: null,
        testAccuracy: null,
        error: null,
      },
    ],
    epochs: 2,
    sharding: 'round-robin',
    seed: 7,
    error: null,
    createdAt: new Date('2026-12-03T15:00:00.000Z'),
    startedAt: new Date('2026-12-03T15:00:01.000Z'),
    finishedAt: null,
    config: parseRunConfig({
      dataset: 'synthetic',
      model: 'mlp',
      members: 1,
      epochs: 2,
      sharding: 'round-robin',
    }),
    datasetSha256: null,
    numClasses: 2,
    live: null,
    latestRound: null,
    result: null,
  },
  rounds: [],
  diversity: null,
  finalTable: {
    source: 'live',
    round: null,
    rows: [{ kind: 'member', key: '0', label: 'Member 0', values: {} }],
  },
  validation: { members: [{ index: 0, points: [[1, 0.5] as XY] }], ensemble: [] },
  workerNames: { w1: 'local-0' },
  workerDevices: { w1: 'cpu' },
};

let wire: { status: number; body: string } = { status: 200, body: '{}' };
const seen: string[] = [];
let server: Server;
let baseUrl: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request.url ?? '');
    response.writeHead(wire.status, { 'content-type': 'application/json' }).end(wire.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe("the dashboard server's routes", () => {
  it('encodes an answer for the wire and decodes it back to the same values (dates again)', async () => {
    const { parse } = JSON;
    const encoded = parse(JSON.stringify(encodeDashboardAnswer('getRunState', state))) as {
      run: { createdAt: unknown };
    };
    expect(encoded.run.createdAt).toBe('2026-12-03T15:00:00.000Z');
    wire = { status: 200, body: JSON.stringify(encoded) };
    const decoded = await fetchDashboardRoute('getRunState', { params: { id: 'r 1' } }, { baseUrl });
    expect(seen.at(-1)).toBe('/api/runs/r%201/state');
    expect(decoded).toEqual(state);
    expect(decoded.run.createdAt).toBeInstanceOf(Date);
  });

  it('refuses to encode a value that does not match, naming the route and the field', () => {
    const broken = { ...state, workerNames: { w1: 42 } } as unknown as RunState;
    expect(() => encodeDashboardAnswer('getRunState', broken)).toThrow(
      /^GET \/api\/runs\/:id\/state: the answer does not match its schema: workerNames\.w1: /,
    );
  });

  it('names the route and the field of an answer that does not match its schema', async () => {
    const encoded = JSON.parse(JSON.stringify(encodeDashboardAnswer('getRunState', state))) as {
      run: { members: Array<Record<string, unknown>> };
    };
    encoded.run.members[0]!.status = 'dancing';
    wire = { status: 200, body: JSON.stringify({ ...encoded, curves: [] }) };
    const error = await fetchDashboardRoute('getRunPage', { params: { id: 'r1' } }, { baseUrl }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChorusError);
    expect(error).toMatchObject({ code: 'internal' });
    expect((error as Error).message).toMatch(
      /^GET \/api\/runs\/:id: the answer does not match its schema: run\.members\.0\.status: Invalid option/,
    );
    // A missing field is named as well, never read as a silent null or undefined.
    encoded.run.members[0]!.status = 'running';
    const { workerDevices: _dropped, ...partial } = encoded as unknown as Record<string, unknown>;
    wire = { status: 200, body: JSON.stringify(partial) };
    await expect(fetchDashboardRoute('getRunState', { params: { id: 'r1' } }, { baseUrl })).rejects.toThrow(
      /^GET \/api\/runs\/:id\/state: the answer does not match its schema: workerDevices: /,
    );
    wire = { status: 200, body: '<html>' };
    await expect(fetchDashboardRoute('getRunState', { params: { id: 'r1' } }, { baseUrl })).rejects.toThrow(
      /^GET \/api\/runs\/:id\/state: the answer is not JSON: <html>/,
    );
  });

  it("turns an error answer into a DashboardHttpError with the server's message and the status's code", async () => {
    wire = { status: 404, body: JSON.stringify({ ok: false, message: 'run r9 does not exist' }) };
    const error = await fetchDashboardRoute(
      'getWhatIf',
      { params: { id: 'r9' }, query: { members: '0,1', strategy: 'soft' } },
      { baseUrl },
    ).catch((e: unknown) => e);
    expect(seen.at(-1)).toBe('/api/runs/r9/what-if?members=0%2C1&strategy=soft');
    expect(error).toBeInstanceOf(DashboardHttpError);
    expect(error).toMatchObject({
      code: 'not-found',
      status: 404,
      reason: 'run r9 does not exist',
      message: 'GET /api/runs/r9/what-if: run r9 does not exist',
    });
    wire = { status: 502, body: 'bad gateway' };
    await expect(fetchDashboardRoute('health', {}, { baseUrl })).rejects.toMatchObject({
      code: 'internal',
      status: 502,
      reason: 'HTTP 502 Bad Gateway',
    });
  });
});
