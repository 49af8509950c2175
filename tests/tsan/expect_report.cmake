# cmake -DPROG=<program> -DARGS=<args> -P expect_report.cmake
#
# Runs PROG and succeeds only if ThreadSanitizer reported a race or a
# use-after-free whose stacks point into early_free.cpp.  The negative
# control: it proves that TSAN still sees an early free in this build.
execute_process(COMMAND ${PROG} ${ARGS}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
set(all "${out}${err}")
if(rc EQUAL 0)
  message(FATAL_ERROR "${PROG} ${ARGS} exited 0: TSAN did not report the early free\n${all}")
endif()
if(NOT all MATCHES "WARNING: ThreadSanitizer: (heap-use-after-free|data race)")
  message(FATAL_ERROR "${PROG} ${ARGS} failed (${rc}) without a TSAN race report\n${all}")
endif()
if(NOT all MATCHES "early_free\\.cpp")
  message(FATAL_ERROR "the TSAN report does not point into early_free.cpp\n${all}")
endif()
string(REGEX MATCH "WARNING: ThreadSanitizer: [^\n]*" first "${all}")
message(STATUS "reported as expected (exit ${rc}): ${first}")
