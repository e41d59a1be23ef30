// RAII owner for GObject instances (GMime objects). Wrap on the line that creates.
// Thread-safety: GMime objects are not shared between threads.
#pragma once

#include <memory>

#include <glib-object.h>

namespace smime {

struct GUnref {
  void operator()(gpointer p) const noexcept {
    if (p != nullptr) {
      ::g_object_unref(p);
    }
  }
};
template <class T>
using GPtr = std::unique_ptr<T, GUnref>;

// Takes a new reference to a borrowed object.
template <class T>
GPtr<T> gref(T* p) {
  if (p != nullptr) {
    g_object_ref(p);  // a macro in GLib >= 2.56, so no leading ::
  }
  return GPtr<T>(p);
}

}  // namespace smime
