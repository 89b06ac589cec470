/** The local testbed: QEMU guests (and loopback-sshd "nodes") that stand in for a KVM cluster. */
export { testbedUp, type TestbedUpOptions, type TestbedUpResult } from './up.js';
export { testbedDown, type TestbedDownResult } from './down.js';
export { testbedStatus, type TestbedStatus, type GuestStatus, type NodeStatus } from './status.js';
export { ensureGuestImage, type GuestImage } from './image.js';
export { chooseAccel, parseAccelRequest, type AccelRequest, type AccelChoice } from './accel.js';
export { machineMap, planLayout } from './layout.js';
export { qemuArgs, type Accel, type GuestLaunch } from './qemu-args.js';
export { testbedDir, testbedFiles, cacheDir } from './paths.js';
