# The web UI (src/ui): esbuild bundles src/ui/app into build/ui/app.js and app.css, and
# cmake/embed_ui.cmake writes them, index.html and the favicon into a C++ source of the binary.
# esbuild and Preact come from npm (src/ui/package-lock.json; scripts/install-deps.sh installs them).
set(LM_UI_DIR ${CMAKE_SOURCE_DIR}/src/ui)
find_program(LM_NODE node)
if(NOT LM_NODE OR NOT EXISTS ${LM_UI_DIR}/node_modules/esbuild/package.json)
  message(FATAL_ERROR "The web UI is built with Node.js and esbuild from npm, and they are missing: "
                      "run scripts/install-deps.sh (make build does).")
endif()

function(lm_build_ui out_source)
  file(GLOB_RECURSE app CONFIGURE_DEPENDS ${LM_UI_DIR}/app/*)
  set(out ${CMAKE_BINARY_DIR}/ui)
  add_custom_command(
    OUTPUT ${out}/app.js ${out}/app.css
    COMMAND ${LM_UI_DIR}/node_modules/.bin/esbuild app/main.jsx --bundle --minify
            --target=es2020,chrome100,firefox100,safari15 --jsx=automatic
            --jsx-import-source=preact --log-level=warning --outfile=${out}/app.js
    WORKING_DIRECTORY ${LM_UI_DIR}
    DEPENDS ${app} ${LM_UI_DIR}/package-lock.json
    COMMENT "Building the web UI (esbuild)"
    VERBATIM)
  add_custom_command(
    OUTPUT ${out_source}
    COMMAND ${CMAKE_COMMAND} -DOUT=${out_source} -DBUILT=${out} -DSTATIC=${LM_UI_DIR}/static
            -P ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    DEPENDS ${out}/app.js ${out}/app.css ${LM_UI_DIR}/static/index.html
            ${LM_UI_DIR}/static/favicon.svg ${CMAKE_SOURCE_DIR}/cmake/embed_ui.cmake
    COMMENT "Embedding the web UI"
    VERBATIM)
endfunction()
