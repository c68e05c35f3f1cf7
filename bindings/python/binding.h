// Shared pieces of the Python binding (docs/PYTHON.md): errors, property
// names and values in both directions, and the two halves of the module.
#pragma once

#include <pybind11/pybind11.h>

#include <stdexcept>
#include <string>

#include "pstkit/messaging.h"
#include "pstkit/store_writer.h"

namespace pstkit::python {

namespace py = pybind11;

// Thrown for a non-OK Status; pybind11 turns it into pstkit.Error with the
// Status message (structure and offset included).
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] inline void raise(const Status& status) { throw Error(status.message()); }
inline void check(const Status& status) {
  if (!status.is_ok()) raise(status);
}
template <typename T>
T take(Result<T> result) {
  if (!result) raise(result.status());
  return std::move(result).value();
}

// ---- convert.cpp: property names and values ---------------------------------

// The name `pstkit show` and `dump --full` print: PidTag* by id and type,
// named properties by their PidLid/PidName name (else "SET:0xLID" /
// "SET:name"), unknown ones "0xNNNN".
std::string property_name(const Store& store, PropTag tag);
// The value as a Python object (see docs/PYTHON.md for the type mapping).
py::object property_value(const PropertyBag& bag, const PropValue& value);
// Every property of a bag, keyed by property_name (a repeated name gets
// "_0xTAG" appended, as dump does).
py::dict properties_dict(const Store& store, const PropertyBag& bag);
// One property by canonical name (any case), "0xNNNN" / "0xNNNNTTTT", or an
// integer id or tag; None when the bag does not hold it.
py::object lookup_property(const Store& store, const PropertyBag& bag, py::handle key);

// FILETIME (100 ns since 1601, UTC) <-> aware datetime.datetime. A FILETIME
// past datetime's year 9999 (the "never" sentinels) stays an int.
py::object filetime_to_python(uint64_t filetime);
uint64_t filetime_from_python(py::handle value);

// A property to write, from a Python key and value: a tagged property, or a
// named one (PidLid*/PidName*) to register in the store's name map.
struct PropertyToWrite {
  bool named = false;
  PropValue tagged;      // when !named
  NamedValue named_value;  // when named
};
PropertyToWrite property_to_write(py::handle key, py::handle value);

// ---- the module's classes ----------------------------------------------------
// A folder path argument: a list of names, or a string of names separated by
// '/' (empty names skipped).
std::vector<std::string> path_argument(py::handle path);

void bind_reading(py::module_& module);
void bind_writing(py::module_& module);

}  // namespace pstkit::python
