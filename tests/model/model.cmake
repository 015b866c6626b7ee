# Model checking with spin (tests/model/run.sh): the map's update protocol, the index's
# writer/reader protocol and the read / evict / reclaim protocol, each with negative controls that must be caught.
# Needs the Debian package spin (tools/deps.sh); run.sh fails with a message without it.
# The models do not depend on the build, so only the plain build runs them; make soak
# runs the larger configurations (MODEL_FULL=1).
if(NOT HC_SANITIZE)
  add_test(NAME model_spin COMMAND sh ${CMAKE_SOURCE_DIR}/tests/model/run.sh
           WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  set_tests_properties(model_spin PROPERTIES LABELS unit TIMEOUT 600)
  add_test(NAME model_spin_full COMMAND sh ${CMAKE_SOURCE_DIR}/tests/model/run.sh
           WORKING_DIRECTORY ${CMAKE_BINARY_DIR})
  set_tests_properties(model_spin_full PROPERTIES LABELS soak TIMEOUT 1800
                       ENVIRONMENT MODEL_FULL=1)
endif()
