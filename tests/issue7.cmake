# Issue 7: reliability and security proofs with a negative control each: power loss
# (LD_PRELOAD shim), hostile keys, secrets in memory. Included from cache/module.cmake.
# `make test` runs the short forms (labels unit/stress); `make soak` the long ones.

# Power loss: the shim records what was made durable; the test rolls the store back to
# it after each SIGKILL. Plain builds only: LD_PRELOAD under ASan would need the
# sanitizer runtime preloaded first (as test_backing_iofail).
if(NOT HC_SANITIZE)
  add_library(hc_powerloss SHARED tests/shim/powerloss.c)
  target_link_libraries(hc_powerloss PRIVATE ${CMAKE_DL_LIBS} Threads::Threads)
  set_target_properties(hc_powerloss PROPERTIES C_VISIBILITY_PRESET hidden)
  hc_test(test_powerloss SOURCES tests/unit/test_powerloss.c tests/unit/crashlog.c
          LIBS hc_internal
          LABELS stress ARGS 20 sync TIMEOUT 300)
  add_dependencies(test_powerloss hc_powerloss)
  target_compile_definitions(test_powerloss PRIVATE
                             HC_POWERLOSS_SHIM="$<TARGET_FILE:hc_powerloss>")
  # Controls: no WAL loses the memtable; an unsynced WAL survives SIGKILL
  # (test_cache_crash_wal) but not a power loss, which shows the shim drops bytes.
  add_test(NAME test_powerloss_detects_loss_none COMMAND test_powerloss 10 none)
  set_tests_properties(test_powerloss_detects_loss_none PROPERTIES LABELS stress
                       TIMEOUT 120 PASS_REGULAR_EXPRESSION "lost an acknowledged write")
  add_test(NAME test_powerloss_detects_loss_wal COMMAND test_powerloss 10 wal)
  set_tests_properties(test_powerloss_detects_loss_wal PROPERTIES LABELS stress
                       TIMEOUT 300 PASS_REGULAR_EXPRESSION "lost an acknowledged write")
  # The long form: 200 power cuts.
  add_test(NAME soak_powerloss COMMAND test_powerloss 200 sync)
  set_tests_properties(soak_powerloss PROPERTIES LABELS soak TIMEOUT 3600)
endif()

# Hostile keys: 2^17 keys that fully collide under the unkeyed hash; the keyed cache
# stays within 2x of random keys, the unkeyed map (control) degrades 10x or more, and
# processes do not share the secret. The control is quadratic to build: 2^14 keys here,
# 2^17 in the soak form.
hc_test(test_hostile_keys SOURCES tests/unit/test_hostile_keys.c LIBS hc_internal hc_splitmap
        LABELS unit ARGS 17 14 TIMEOUT 300)
add_test(NAME soak_hostile_keys COMMAND test_hostile_keys 17 17)
set_tests_properties(soak_hostile_keys PROPERTIES LABELS soak TIMEOUT 3600)

# Secrets in memory: no canary of 10 000 evicted/replaced/deleted entries anywhere in
# writable memory after reclamation (open and after close), with a scanner control; the
# data key's guard page faults in forked children (death test), with a control.
hc_test(test_secrets SOURCES tests/unit/test_secrets.c LIBS hc_internal LABELS unit
        TIMEOUT 300)

# Regression (found by this shim): the store directory RocksDB creates was never made
# durable in its parent, so a power cut could take a whole new store and every write
# acknowledged with sync durability; backing/store.c now fsyncs the parent. Each cycle
# here creates the store under the shim.
if(NOT HC_SANITIZE)
  get_test_property(test_powerloss ENVIRONMENT hc_pl_env)
  add_test(NAME test_powerloss_fresh_store COMMAND test_powerloss 3 sync fresh)
  set_tests_properties(test_powerloss_fresh_store PROPERTIES LABELS stress TIMEOUT 120
                       ENVIRONMENT "${hc_pl_env}")
endif()
