# FindLibAIO: libaio (Debian libaio-dev) -> LibAIO::aio
find_path(LIBAIO_INCLUDE_DIR libaio.h)
find_library(LIBAIO_LIBRARY NAMES aio)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(LibAIO REQUIRED_VARS LIBAIO_INCLUDE_DIR LIBAIO_LIBRARY)
if(LibAIO_FOUND AND NOT TARGET LibAIO::aio)
  add_library(LibAIO::aio UNKNOWN IMPORTED)
  set_target_properties(LibAIO::aio PROPERTIES
    IMPORTED_LOCATION "${LIBAIO_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${LIBAIO_INCLUDE_DIR}")
endif()
mark_as_advanced(LIBAIO_INCLUDE_DIR LIBAIO_LIBRARY)
