# Writes a C++ source holding the files of examples/dbt/shop (the demo's dbt project), rewritten
# only when its contents change. Run at configure time; adding, removing or editing a file of the
# project re-runs the configuration.
include(${CMAKE_CURRENT_LIST_DIR}/write_if_changed.cmake)

function(lm_generate_demo_dbt out)
  set(root ${CMAKE_SOURCE_DIR}/examples/dbt/shop)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS RELATIVE ${root} ${root}/*)
  list(SORT files)
  set(content "// Generated from examples/dbt/shop by cmake/demo_dbt.cmake: do not edit.\n")
  string(APPEND content "#include \"app/demo_dbt.h\"\n\nnamespace lakemesh::app {\n\n")
  string(APPEND content "const std::vector<std::pair<std::string, std::string>>& DemoDbtProject() {\n")
  string(APPEND content "  static const std::vector<std::pair<std::string, std::string>> files = {\n")
  foreach(f ${files})
    if(f MATCHES "^target/" OR f MATCHES "(^|/)\\.")
      continue()
    endif()
    file(READ ${root}/${f} text)
    string(APPEND content "      {\"${f}\", R\"lmdemo(${text})lmdemo\"},\n")
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${root}/${f})
  endforeach()
  string(APPEND content "  };\n  return files;\n}\n\n}  // namespace lakemesh::app\n")
  lm_write_if_changed(${out} "${content}")
endfunction()
