# libgantry helpers: cmd (spawn), http, json.
