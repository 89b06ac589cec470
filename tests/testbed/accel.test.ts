/**
 * Choosing the accelerator on this very machine: `auto` probes KVM with the
 * guest image's kernel (the answer depends on the host, so the test checks
 * that it is consistent, explained, and cached), `tcg` never probes, `kvm`
 * without a usable /dev/kvm is a clear user error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { constants } from 'node:fs';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chooseAccel } from '../../src/testbed/accel.js';
import { ensureGuestImage } from '../../src/testbed/image.js';
import { UserError } from '../../src/errors.js';

const kvmUsable = await access('/dev/kvm', constants.R_OK | constants.W_OK).then(() => true, () => false);

test('auto probes once, says why, and caches the verdict for this boot and QEMU build', async () => {
  const image = await ensureGuestImage();
  const cacheDir = await mkdtemp(join(tmpdir(), 'expert-accel-'));
  try {
    const first = await chooseAccel('auto', { kernel: image.kernel, qemuVersion: 'test-1', cacheDir, timeoutMs: 4000 });
    assert.ok(first.accel === 'kvm' || first.accel === 'tcg');
    if (!kvmUsable) assert.equal(first.accel, 'tcg');
    assert.match(first.reason, first.accel === 'kvm' ? /kernel banner in/ : /kvm probe|\/dev\/kvm/);
    const second = await chooseAccel('auto', { kernel: image.kernel, qemuVersion: 'test-1', cacheDir });
    assert.equal(second.accel, first.accel);
    assert.equal(second.reason, kvmUsable ? `cached probe: ${first.reason}` : first.reason);
    if (kvmUsable) {
      const cache = JSON.parse(await readFile(join(cacheDir, 'accel-probe.json'), 'utf8')) as Record<string, { accel: string }>;
      assert.deepEqual(Object.values(cache).map((c) => c.accel), [first.accel]);
    }
  } finally {
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('tcg is taken as asked; kvm is refused clearly when /dev/kvm cannot be used', async () => {
  assert.deepEqual(await chooseAccel('tcg', { kernel: '/nonexistent', qemuVersion: 'x', cacheDir: '/nonexistent' }), { accel: 'tcg', reason: 'requested' });
  if (!kvmUsable) {
    await assert.rejects(chooseAccel('kvm', { kernel: '/nonexistent', qemuVersion: 'x', cacheDir: '/nonexistent' }), (e: unknown) => e instanceof UserError && /--accel kvm: \/dev\/kvm is not usable/.test(e.message));
  } else {
    assert.equal((await chooseAccel('kvm', { kernel: '/nonexistent', qemuVersion: 'x', cacheDir: '/nonexistent' })).accel, 'kvm');
  }
});
