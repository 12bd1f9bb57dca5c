import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describeError, errorCode } from '../../src/errors.js';

function thrown(op: () => unknown): unknown {
  try {
    op();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

const withProps = (message: string, props: object): Error => Object.assign(new Error(message), props);

describe('describeError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dstb-errors-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a failed file read: the code and the reason, without the path the caller names', () => {
    const err = thrown(() => readFileSync(join(dir, 'nope')));
    assert.equal(describeError(err), 'ENOENT: no such file or directory');
  });

  it('a failed rename: both paths left out', () => {
    const err = thrown(() => renameSync(join(dir, 'a'), join(dir, 'b')));
    assert.equal(describeError(err), 'ENOENT: no such file or directory');
  });

  it('keeps a message that names its code already, as a refused connection does', () => {
    const err = withProps('connect ECONNREFUSED 127.0.0.1:2003', { code: 'ECONNREFUSED', syscall: 'connect' });
    assert.equal(describeError(err), 'connect ECONNREFUSED 127.0.0.1:2003');
  });

  it('puts the code in front when the message does not say it', () => {
    assert.equal(
      describeError(withProps("Timeout awaiting 'request' for 5000ms", { code: 'ETIMEDOUT' })),
      "ETIMEDOUT: Timeout awaiting 'request' for 5000ms",
    );
  });

  it('puts an HTTP status in front when the message does not say it', () => {
    assert.equal(
      describeError(withProps('(HTTP code 404) no such container', { statusCode: 404 })),
      '(HTTP code 404) no such container',
    );
    assert.equal(describeError(withProps('no such container', { statusCode: 404 })), 'HTTP 404: no such container');
  });

  it('keeps a path that is not the one the error carries', () => {
    assert.equal(describeError(new Error("bad file, open '/x'")), "bad file, open '/x'");
    const other = withProps("EACCES: permission denied, open '/y'", { code: 'EACCES', syscall: 'open', path: '/z' });
    assert.equal(describeError(other), "EACCES: permission denied, open '/y'");
  });

  it('one line: runs of white space become one space', () => {
    assert.equal(describeError(new Error('first line\n  second\tline \n')), 'first line second line');
  });

  it('something thrown that is not an Error', () => {
    assert.equal(describeError('plain text'), 'plain text');
    assert.equal(describeError(undefined), 'undefined');
    assert.equal(describeError(null), 'null');
    assert.equal(describeError(42), '42');
  });
});

describe('errorCode', () => {
  it('a string code, else undefined', () => {
    assert.equal(errorCode(withProps('x', { code: 'EROFS' })), 'EROFS');
    assert.equal(errorCode(withProps('x', { code: 7 })), undefined);
    assert.equal(errorCode(new Error('x')), undefined);
    assert.equal(errorCode(null), undefined);
    assert.equal(errorCode(undefined), undefined);
    assert.equal(errorCode('ENOENT'), undefined);
  });
});
