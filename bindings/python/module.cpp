// `import pstkit`: the Python binding of the pstkit library (docs/PYTHON.md).
#include "binding.h"

PYBIND11_MODULE(pstkit, m) {
  using namespace pstkit::python;
  m.doc() = "Read, check and write Outlook .pst/.ost files (pstkit).";
  m.attr("__version__") = PSTKIT_VERSION;
  // Every failure of the library (a damaged file, a missing folder, a
  // failed write) is a pstkit.Error carrying pstkit's message.
  py::register_exception<Error>(m, "Error");
  bind_reading(m);
  bind_writing(m);
}
