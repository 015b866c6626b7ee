/*
 * backing/tsan_rocksdb.c: ThreadSanitizer suppressions for RocksDB, compiled into
 * hc_backing in TSan builds only (HC_TSAN), so every program that links the backing
 * store gets them without a suppressions file of its own.
 *
 * Why: Debian's librocksdb (and the libstdc++ it uses) is not built with TSan. RocksDB's
 * write thread hands a writer's WriteBatch to the group-commit leader through
 * std::atomic state and futex waits TSan cannot see, so the leader's memcpy of the batch
 * (WritableFileWriter::Append, std::string growth inside WriteBatch) looks like a race
 * with the writer that built it. Ignoring the accesses made *from* those two libraries
 * (called_from_lib) removes exactly those reports; every access made by our own code,
 * including to memory RocksDB returns to us, stays checked.
 */
#ifdef HC_TSAN
#define BACKING_INTERNAL
#include "backing/backing.h"

/* Default visibility: the shared TSan runtime must find it (the build hides symbols). */
__attribute__((visibility("default"))) const char *__tsan_default_suppressions(void);

const char *__tsan_default_suppressions(void)
{
	return "called_from_lib:librocksdb.so\n"
	       "called_from_lib:libstdc++.so\n";
}
#endif
