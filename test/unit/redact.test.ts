import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayUrl, redact } from '../../src/redact.js';

/** Every printable ASCII character, space to tilde. */
const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
const SECRET = 'Zq9PWuniq';

describe('redact', () => {
  it("masks a raw password holding any printable character but the authority's ends / ? #", () => {
    for (const c of PRINTABLE.filter((ch) => !'/?#'.includes(ch))) {
      const password = `a${c}${SECRET}${c}${c}`;
      for (const [text, want] of [
        [`http://u:${password}@127.0.0.1:99999/x`, 'http://u:***@127.0.0.1:99999/x'],
        [
          `POST https://ops:${password}@backstop.example/publish/docker failed`,
          'POST https://ops:***@backstop.example/publish/docker failed',
        ],
        [`tcp://u:${password}@graphite:2003`, 'tcp://u:***@graphite:2003'],
        [`x=http://u:${password}@h?q=1 y=2`, 'x=http://u:***@h?q=1 y=2'],
      ] as const) {
        const out = redact(text);
        assert.equal(out, want, `character ${JSON.stringify(c)}`);
        assert.ok(!out.includes(SECRET));
      }
    }
  });

  it('masks every printable character percent-encoded, and passwords of all of them at once', () => {
    const all = PRINTABLE.join('');
    for (const password of [...PRINTABLE.map((c) => `a${c}${SECRET}`), all, `${all}${SECRET}`]) {
      const text = `failed: http://user:${encodeURIComponent(password)}@h:8080/p and more`;
      assert.equal(redact(text), 'failed: http://user:***@h:8080/p and more');
      const url = new URL('http://user@h:8080/p');
      url.password = password;
      assert.equal(displayUrl(url), 'http://user:***@h:8080/p');
      assert.equal(redact(url.href), 'http://user:***@h:8080/p');
    }
    const raw = PRINTABLE.filter((c) => !'/?#'.includes(c)).join('') + SECRET;
    const out = redact(`http://u:${raw}@h/x`);
    assert.equal(out, 'http://u:***@h/x');
  });

  it('masks each URL of a line, in a JSON field too, and leaves a user name and URLs without a password alone', () => {
    const rest = '"c":"ssh://root@h3:22","d":"unix:///var/run/docker.sock"}';
    const line = `{"a":"http://h1:80/x","b":"https://u:p@ss@h2/y",${rest}`;
    assert.equal(redact(line), `{"a":"http://h1:80/x","b":"https://u:***@h2/y",${rest}`);
    assert.equal(redact('see https://example.com/a@b'), 'see https://example.com/a@b');
  });

  it('masks the credentials of an echoed Authorization header', () => {
    const basic = Buffer.from(`u:${SECRET}`).toString('base64');
    assert.equal(redact(`bad request; Authorization: Basic ${basic}`), 'bad request; Authorization: Basic ***');
    assert.equal(redact('authorization=Bearer abcdefgh.ijk-lmn_op'), 'authorization=Bearer ***');
  });
});
