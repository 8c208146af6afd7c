import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeIpxeError, errorSite, parseIpxeCode } from './ipxe-error-code.ts';
import { explainIpxeError, renderExplanation } from './explain.ts';
import { IPXE_ERROR_RULES } from './ipxe-error-rules.ts';

/** The iPXE codes quoted in ../shared/seeds (the other 0x........ there are ldd load addresses). */
const SEED_CODES = [0x2c0d603b, 0x1d704039, 0x0b8080a0, 0x2e852001];
/** Codes diskless's end-to-end harness has met (policy.ts and ../shared/e2e/README.md). */
const HARNESS_CODES = [0x03232019, 0x7f22208e, 0x3c092003];

test('parses codes as users paste them', () => {
  for (const input of ['0x1d704039', '1d704039', '0X1D704039', 'http://ipxe.org/1d704039', '(https://ipxe.org/err/1d704039)', ' 1d704039 ']) {
    assert.equal(parseIpxeCode(input), 0x1d704039, input);
  }
  assert.equal(parseIpxeCode('b7fa6000'), null, 'bit 31 set: an address, not an iPXE error');
  assert.equal(parseIpxeCode('0'), null);
  assert.equal(parseIpxeCode('not-a-code'), null);
  assert.equal(parseIpxeCode('0x123456789'), null);
});

test('decodes the fields of iPXE\'s layout (errno.h)', () => {
  const d = decodeIpxeError(0x2c0d603b);
  assert.equal(d.posix.name, 'ENODEV');
  assert.deepEqual([d.file.category, d.file.index, d.file.name, d.file.arch, d.file.id], ['net', 0x0d, 'iscsi', false, 0x0d6000]);
  assert.equal(d.disambiguator, 0);
  assert.equal(d.platform.meaning, 'PXENV_STATUS_TFTP_FILE_NOT_FOUND: a BIOS build of iPXE');
  const auth = decodeIpxeError(0x410d613c);
  assert.deepEqual([auth.posix.name, auth.file.name, auth.disambiguator], ['EPERM', 'iscsi', 1]);
  const int13 = decodeIpxeError(0x2e852001);
  assert.deepEqual([int13.file.name, int13.file.arch], ['int13', true]);
  assert.equal(decodeIpxeError(0x2d12608e).platform.meaning, 'EFI_NOT_FOUND: a UEFI build of iPXE');
});

test('the BIOS and UEFI builds of one failure share a site and an explanation', () => {
  assert.equal(errorSite(0x1d704039), errorSite(0x1d704087));
  assert.equal(explainIpxeError(0x1d704087).rule?.code, 0x1d704039);
  assert.equal(explainIpxeError(0x2d12608e).rule?.code, 0x2d12603b);
});

test('every code of the seeds and of the harness has an explanation', () => {
  for (const code of [...SEED_CODES, ...HARNESS_CODES]) assert.notEqual(explainIpxeError(code).rule, null, code.toString(16));
});

test('rules are unique per site and decode to a known error', () => {
  const sites = IPXE_ERROR_RULES.filter((r) => r.match === 'site').map((r) => errorSite(r.code));
  assert.equal(new Set(sites).size, sites.length);
  for (const rule of IPXE_ERROR_RULES) assert.notEqual(decodeIpxeError(rule.code).posix.name, undefined, rule.code.toString(16));
});

test('explains 0x1d704039 (tgtd LUN 0) as exact text', () => {
  assert.equal(
    renderExplanation(explainIpxeError(0x1d704039)),
    [
      '0x1d704039: Input/output error',
      '  Error:       EIO (0x1d)',
      '  Where:       scsi.c',
      '  Platform:    PXENV_STATUS_TFTP_CANNOT_READ_FROM_CONNECTION: a BIOS build of iPXE',
      '  What failed: A SCSI command to the LUN failed (CHECK CONDITION): iPXE logged in, but could not read the capacity or the first blocks of the disk.',
      '  Causes:      - The LUN is not a disk: with tgtd, LUN 0 is the controller and disks start at LUN 1, so `sanboot iscsi:SERVER::::IQN` (LUN 0 by default) fails. diskless always makes LUN 0 a disk.',
      '               - The root path names a LUN the target does not have (diskless answers LOGICAL UNIT NOT SUPPORTED).',
      '               - The disk file behind the LUN cannot be read (moved, truncated, no permission).',
      '  Check:       - `diskless target show IQN` lists its LUNs: the number before the IQN in iscsi:SERVER::PORT:LUN:IQN must be one of them.',
      '               - `diskless doctor MACHINE` logs in and reads LBA 0 of every disk the machine boots from.',
      '  Source:      seed "That darn iBFT iSCSI Windows installation error" (tgtd LUN 0); iPXE scsi.c',
      '  More:        https://ipxe.org/err/1d704039',
      '',
    ].join('\n'),
  );
});

test('explains 0x0b8080a0 with its x86 source file', () => {
  const text = renderExplanation(explainIpxeError(0x0b8080a0));
  assert.equal(text.split('\n').slice(0, 4).join('\n'), [
    '0x0b8080a0: Operation canceled',
    '  Error:       ECANCELED (0x0b)',
    '  Where:       bootsector.c, x86-specific',
    '  Platform:    PXENV_STATUS_BINL_CANCELED_BY_KEYSTROKE: a BIOS build of iPXE',
  ].join('\n'));
});

test('an unknown code still gets its generic parts, and says it has no notes', () => {
  assert.equal(
    renderExplanation(explainIpxeError(0x4c0d6135)),
    [
      '0x4c0d6135: Connection timed out',
      '  Error:       ETIMEDOUT (0x4c)',
      '  Where:       iscsi.c, disambiguator 0x01',
      '  Platform:    PXENV_STATUS_TFTP_READ_TIMEOUT: a BIOS build of iPXE',
      '  What failed: "Connection timed out", in the iSCSI login or session. diskless has no notes on this code; the parts above are read from the code itself.',
      '  More:        https://ipxe.org/err/4c0d6135',
      '',
    ].join('\n'),
  );
  assert.match(renderExplanation(explainIpxeError(0x12345678)), /Where: {7}file 0x34 of the driver group, not in diskless's table, disambiguator 0x16\n/);
});
