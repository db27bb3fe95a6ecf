import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ChorusError } from './errors';
import {
  EMPTY_ACK,
  emitEvent,
  handleEvent,
  InvalidAnswerError,
  NO_PAYLOAD,
  parseAnswer,
  requestEvent,
  type AckError,
  type SocketCatalog,
} from './typed-socket';

/** A small catalog: one answered event, one notice, one event without a payload. */
const catalog = {
  add: { message: z.object({ a: z.number(), b: z.number() }), ack: z.object({ sum: z.number() }) },
  ping: { message: EMPTY_ACK, ack: EMPTY_ACK },
  note: { message: z.object({ text: z.string().min(1) }) },
  tick: { message: NO_PAYLOAD },
} satisfies SocketCatalog;

/**
 * Two ends joined in memory the way socket.io joins them: `emit(event, ...args)` on one calls the
 * listeners of the other, and `emitWithAck` resolves with what the listener acknowledges.
 */
function pair() {
  const receiver = new EventEmitter();
  const sent: unknown[][] = [];
  const sender = {
    emit: (event: string, ...args: unknown[]) => {
      sent.push([event, ...args]);
      return receiver.emit(event, ...args);
    },
    emitWithAck: (event: string, ...args: unknown[]) =>
      new Promise<unknown>((resolve) => sender.emit(event, ...args, resolve)),
    timeout: () => sender,
  };
  return { receiver, sender, sent };
}

const answerOf = (emit: (ack: (a: unknown) => void) => void) =>
  new Promise<unknown>((resolve) => emit(resolve));

describe('handleEvent', () => {
  it('answers a valid message with the handler result, and an invalid one with the fields at fault', async () => {
    const { receiver, sender } = pair();
    const seen: unknown[] = [];
    const refused: AckError[] = [];
    handleEvent(
      receiver,
      catalog,
      'add',
      ({ a, b }) => {
        seen.push([a, b]);
        return { sum: a + b };
      },
      { onRefused: (_event, refusal) => refused.push(refusal) },
    );
    expect(await answerOf((ack) => sender.emit('add', { a: 2, b: 3 }, ack))).toEqual({ ok: true, sum: 5 });
    const invalid = {
      ok: false,
      code: 'invalid-input',
      message: 'invalid add message:\nb: Invalid input: expected number, received string',
    };
    expect(await answerOf((ack) => sender.emit('add', { a: 2, b: 'x' }, ack))).toEqual(invalid);
    expect(await answerOf((ack) => sender.emit('add', 'nonsense', ack))).toMatchObject({
      ok: false,
      code: 'invalid-input',
      message: expect.stringMatching(/^invalid add message:\n\(message\): /),
    });
    // Nothing of an invalid message reaches the handler; every refusal is reported.
    expect(seen).toEqual([[2, 3]]);
    expect(refused).toHaveLength(2);
    expect(refused[0]).toEqual(invalid);
  });

  it('answers what the handler throws as a refusal of its code', async () => {
    const { receiver, sender } = pair();
    handleEvent(receiver, catalog, 'add', () => {
      throw new ChorusError('not-found', 'no such thing');
    });
    handleEvent(receiver, catalog, 'ping', async () => {
      throw new Error('boom');
    });
    expect(await answerOf((ack) => sender.emit('add', { a: 1, b: 1 }, ack))).toEqual({
      ok: false,
      code: 'not-found',
      message: 'no such thing',
    });
    // `toAckError` decides what a failure becomes (the coordinator hides internal details).
    const other = pair();
    handleEvent(
      other.receiver,
      catalog,
      'ping',
      () => {
        throw new Error('boom');
      },
      { toAckError: (_e, event) => ({ ok: false, code: 'internal', message: `internal error (${event})` }) },
    );
    expect(await answerOf((ack) => other.sender.emit('ping', {}, ack))).toEqual({
      ok: false,
      code: 'internal',
      message: 'internal error (ping)',
    });
    expect(await answerOf((ack) => sender.emit('ping', {}, ack))).toEqual({
      ok: false,
      code: 'internal',
      message: 'boom',
    });
  });

  it('parses an answered event sent with only its callback as an empty payload', async () => {
    const { receiver, sender } = pair();
    handleEvent(receiver, catalog, 'ping', () => undefined);
    expect(await answerOf((ack) => sender.emit('ping', ack))).toEqual({ ok: true });
  });

  it('passes valid notices on and reports invalid ones, with tracking', async () => {
    const { receiver, sender } = pair();
    const notes: string[] = [];
    const refused: string[] = [];
    const work: Promise<void>[] = [];
    handleEvent(receiver, catalog, 'note', ({ text }) => void notes.push(text), {
      onRefused: (event, refusal) => refused.push(`${event}: ${refusal.message}`),
      track: (w) => work.push(w),
    });
    sender.emit('note', { text: 'hello' });
    sender.emit('note', { text: '' });
    await Promise.all(work);
    expect(notes).toEqual(['hello']);
    expect(refused).toEqual([
      'note: invalid note message:\ntext: Too small: expected string to have >=1 characters',
    ]);
    expect(work).toHaveLength(2);
  });
});

describe('emitEvent and requestEvent', () => {
  it('send a valid payload and refuse to send an invalid one, naming the fields', async () => {
    const { receiver, sender, sent } = pair();
    handleEvent(receiver, catalog, 'add', ({ a, b }) => ({ sum: a + b }));
    emitEvent(sender, catalog, 'note', { text: 'hi' });
    emitEvent(sender, catalog, 'tick');
    expect(await requestEvent(sender, catalog, 'add', { a: 1, b: 2 })).toEqual({ ok: true, sum: 3 });
    expect(sent.map((s) => s[0])).toEqual(['note', 'tick', 'add']);

    // Typed: these do not compile, and are refused at run time before anything is sent.
    // @ts-expect-error text must be a string
    expect(() => emitEvent(sender, catalog, 'note', { text: 3 })).toThrow(
      new ChorusError(
        'invalid-input',
        'not sent: invalid note message:\ntext: Invalid input: expected string, received number',
      ),
    );
    // @ts-expect-error b is missing
    await expect(requestEvent(sender, catalog, 'add', { a: 1 })).rejects.toThrow(
      /^not sent: invalid add message:\nb: /,
    );
    expect(sent).toHaveLength(3);
  });

  it('return a refusal as a value and reject an answer that does not match the catalog', async () => {
    const { receiver, sender } = pair();
    receiver.on('add', (_payload: unknown, ack: (a: unknown) => void) => ack({ ok: true, sum: 'three' }));
    receiver.on('ping', (_payload: unknown, ack: (a: unknown) => void) =>
      ack({ ok: false, code: 'unavailable', message: 'busy' }),
    );
    expect(await requestEvent(sender, catalog, 'ping', {})).toEqual({
      ok: false,
      code: 'unavailable',
      message: 'busy',
    });
    const error = await requestEvent(sender, catalog, 'add', { a: 1, b: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidAnswerError);
    expect(error).toMatchObject({
      code: 'internal',
      event: 'add',
      answer: { ok: true, sum: 'three' },
      message:
        'the answer to add does not match the protocol:\nsum: Invalid input: expected number, received string',
    });
  });

  it('parseAnswer maps unknown refusal codes to internal and refuses an answer that is not one', () => {
    expect(parseAnswer(catalog, 'ping', { ok: false, code: 'weird', message: 'm' })).toEqual({
      ok: false,
      code: 'internal',
      message: 'm',
    });
    expect(() => parseAnswer(catalog, 'ping', 'yes')).toThrow(
      /^the answer to ping does not match the protocol:\n\(answer\): /,
    );
  });
});
