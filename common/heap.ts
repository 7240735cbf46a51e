/**
 * Keeps glibc's malloc from handing memory back to the kernel after every large decode.
 *
 * glibc gives the free memory at the top of its heap back to the kernel once it exceeds twice its mmap
 * threshold, a threshold it raises to the size of any block it had to mmap and then freed (mallopt(3),
 * M_MMAP_THRESHOLD, "dynamic adjustment"; at most 32 MiB on 64-bit). A decode makes and drops
 * ~0.7 MB arrays by the dozen (a day of a 20-field G3 file: 20 columns of 0.7 MB; a scanner: one file
 * buffer per file): with the threshold at their size, the heap shrank at every collection and grew
 * again at the next decode, every page of it faulted in anew — 400–700 minor faults and ~1.5 ms of
 * system time in a 9 ms decode of that day (bench/g3.ts; with the threshold raised: 50–80 faults).
 *
 * One 16 MiB block, made here and dropped (freed by the next collection), raises the threshold to
 * 16 MiB: the heap then keeps up to 32 MiB free instead. The thresholds are the process's; the guard
 * below is this module's, so each thread that decodes (a decode worker) makes its block once, which is
 * harmless. The price: blocks of 0.7–16 MiB now come from malloc's heaps rather than mmap, and each
 * heap may hold up to 32 MiB free (more when a live block sits above freed ones), so a process's RSS
 * can stay that much higher after a burst of decodes. Under another allocator, or with
 * MALLOC_MMAP_THRESHOLD_ set (no dynamic threshold), it is one short-lived 16 MiB buffer, never written.
 */
const RAISE_TO = 16 * 2 ** 20;
let raised = false;

export function keepFreedHeap(): void {
  if (raised) return;
  raised = true;
  // allocUnsafeSlow: a block of its own (not Node's 8 KiB pool), not zeroed, so mmapped untouched.
  Buffer.allocUnsafeSlow(RAISE_TO);
}
