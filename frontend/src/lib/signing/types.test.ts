import { describe, expect, it } from 'vitest';
import { certificateToPem, fileUrl, remoteCommand, shellQuote, targetPath } from './types';

describe('signing helpers', () => {
  it('builds target paths', () => {
    expect(targetPath('resolution', 7)).toBe('/api/resolutions/7');
    expect(targetPath('minutes', 3)).toBe('/api/minutes/3');
    expect(fileUrl('minutes', 3, 'signed')).toBe('/api/minutes/3/file?which=signed');
  });

  it('quotes shell arguments', () => {
    expect(shellQuote('/usr/lib/x.so')).toBe('/usr/lib/x.so');
    expect(shellQuote('Chủ tịch')).toBe("'Chủ tịch'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('writes the exact command', () => {
    const cmd = remoteCommand({
      origin: 'https://hdnd.example.vn',
      session: 'abc123',
      ticket: 'qst_Ab-9_x',
      module: '/usr/lib/softhsm/libsofthsm2.so',
      tokenLabel: 'Chu tich',
      keyLabel: 'chair',
    });
    expect(cmd).toBe(
      " QUORUM_SIGNING_TICKET=qst_Ab-9_x quorum sign-remote --url https://hdnd.example.vn --session abc123 " +
        "--pkcs11-module /usr/lib/softhsm/libsofthsm2.so --token-label 'Chu tich' --key-label chair",
    );
  });

  it('wraps DER certificates as PEM and keeps PEM', () => {
    const der = new Uint8Array([0x30, 0x82, 0x01, 0x0a]);
    expect(certificateToPem(der)).toBe(
      '-----BEGIN CERTIFICATE-----\nMIIBCg==\n-----END CERTIFICATE-----\n',
    );
    const pem = '-----BEGIN CERTIFICATE-----\nMIIBCg==\n-----END CERTIFICATE-----';
    expect(certificateToPem(new TextEncoder().encode(pem))).toBe(pem + '\n');
  });
});
