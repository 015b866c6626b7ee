/*
 * hc_iofail: an LD_PRELOAD shim that makes writes and syncs fail with a chosen errno for
 * files under one directory. Tests find the control functions with dlsym(RTLD_DEFAULT),
 * or arm it from the environment at load time:
 *
 *   HC_IOFAIL_DIR=<dir>  HC_IOFAIL_OPS=write,sync  HC_IOFAIL_ERRNO=EIO|ENOSPC
 *   HC_IOFAIL_SKIP=<n>   (let n matching calls through first; default 0)
 *
 * Intercepted: write, pwrite, pwrite64, writev, pwritev (HC_IOFAIL_WRITE) and fsync,
 * fdatasync, sync_file_range (HC_IOFAIL_SYNC). A call is matched when its descriptor
 * resolves (/proc/self/fd) to a path under the armed directory. Disarmed, every call goes
 * straight to libc after one relaxed load. Test-only: not built into the library.
 */
#ifndef HC_IOFAIL_H
#define HC_IOFAIL_H

#define HC_IOFAIL_WRITE 0x1u
#define HC_IOFAIL_SYNC 0x2u

/* Arms: fail matching ops under dir with err, after letting skip of them through;
 * fail at most limit calls (limit < 0: no limit). */
typedef void hc_iofail_arm_fn(const char *dir, unsigned ops, int err, long skip, long limit);
typedef void hc_iofail_disarm_fn(void);
/* The number of calls failed since load. */
typedef long hc_iofail_injected_fn(void);

#endif
