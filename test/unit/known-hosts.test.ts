import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkHostKey, knownHostName } from '../../src/docker/known-hosts.js';

// A real ed25519 host key and known_hosts lines made with OpenSSH 9.2's ssh-keygen: the hashed
// lines are `ssh-keygen -H` of `[10.1.2.3]:2222 …` and `docker-host.example,10.9.9.9 …`.
const KEY_B64 = 'AAAAC3NzaC1lZDI1NTE5AAAAIFCVW1py60I1mjX2mmhlzhpSeyRR/7A6x4GghqywnI96';
const KEY = Buffer.from(KEY_B64, 'base64');
const OTHER = Buffer.from('AAAAC3NzaC1lZDI1NTE5AAAAIHBvV1py60I1mjX2mmhlzhpSeyRR/7A6x4GghqywnI96', 'base64');
const HASHED = [
  `|1|Ux8/8w8mWTlOhMvwT2UoVHhNPiU=|dNIBlrABwkhtMP31jz5hqYOJjpc= ssh-ed25519 ${KEY_B64}`,
  `|1|pqVZUJLsZkBbZcbZ5H55Jx+Km54=|E5PxdHtrpfEaNpNHS3ULyRkOdN8= ssh-ed25519 ${KEY_B64}`,
  `|1|UTcGYeP9x+a3+4v0fq25iaY2YyM=|JyL4WSvPSsJFlfxMm4Qe70RPY+c= ssh-ed25519 ${KEY_B64}`,
].join('\n');

describe('known_hosts check for ssh:// Engines', () => {
  it('names hosts as OpenSSH does: [host]:port unless the port is 22', () => {
    assert.equal(knownHostName('h.example', 22), 'h.example');
    assert.equal(knownHostName('10.1.2.3', 2222), '[10.1.2.3]:2222');
  });

  it('finds plain entries, comma lists and wildcards, for that key only', () => {
    const text = [
      '# comment',
      '',
      `engine1.example,10.0.0.5 ssh-ed25519 ${KEY_B64} root@engine1`,
      `[*.lab]:2222 ssh-ed25519 ${KEY_B64}`,
      '',
    ].join('\n');
    assert.equal(checkHostKey(text, 'engine1.example', 22, KEY), 'known');
    assert.equal(checkHostKey(text, 'ENGINE1.example', 22, KEY), 'known');
    assert.equal(checkHostKey(text, '10.0.0.5', 22, KEY), 'known');
    assert.equal(checkHostKey(text, 'box.lab', 2222, KEY), 'known');
    assert.equal(checkHostKey(text, 'box.lab', 22, KEY), 'unknown', 'another port is another host');
    assert.equal(checkHostKey(text, 'engine1.example', 2222, KEY), 'unknown');
    assert.equal(checkHostKey(text, 'engine1.example', 22, OTHER), 'unknown', 'a changed key is not accepted');
    assert.equal(checkHostKey(text, 'engine2.example', 22, KEY), 'unknown');
  });

  it('matches hashed host names (ssh-keygen -H)', () => {
    assert.equal(checkHostKey(HASHED, '10.1.2.3', 2222, KEY), 'known');
    assert.equal(checkHostKey(HASHED, 'docker-host.example', 22, KEY), 'known');
    assert.equal(checkHostKey(HASHED, '10.9.9.9', 22, KEY), 'known');
    assert.equal(checkHostKey(HASHED, '10.1.2.3', 22, KEY), 'unknown');
    assert.equal(checkHostKey(HASHED, '10.1.2.4', 2222, KEY), 'unknown');
  });

  it('honours negation and @revoked, and skips @cert-authority lines', () => {
    const text = [
      `*.example,!bad.example ssh-ed25519 ${KEY_B64}`,
      `@revoked stolen.example ssh-ed25519 ${KEY_B64}`,
      `stolen.example ssh-ed25519 ${KEY_B64}`,
      `@cert-authority ca.other ssh-ed25519 ${KEY_B64}`,
    ].join('\n');
    assert.equal(checkHostKey(text, 'good.example', 22, KEY), 'known');
    assert.equal(checkHostKey(text, 'bad.example', 22, KEY), 'unknown');
    assert.equal(checkHostKey(text, 'stolen.example', 22, KEY), 'revoked');
    assert.equal(checkHostKey(text, 'ca.other', 22, KEY), 'unknown');
  });
});
