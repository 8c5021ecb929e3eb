# Version string: project version plus the git commit when built from a checkout.
set(AMIMO_GIT_DESCRIBE "")
find_package(Git QUIET)
if(GIT_FOUND AND EXISTS "${PROJECT_SOURCE_DIR}/.git")
  execute_process(
    COMMAND "${GIT_EXECUTABLE}" describe --always --dirty
    WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
    OUTPUT_VARIABLE AMIMO_GIT_DESCRIBE
    OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
endif()
if(AMIMO_GIT_DESCRIBE)
  set(AMIMO_VERSION_STRING "${PROJECT_VERSION}+${AMIMO_GIT_DESCRIBE}")
else()
  set(AMIMO_VERSION_STRING "${PROJECT_VERSION}")
endif()
