# Static types for record.py when it is compiled (Cython pure Python mode).
cimport cython

cdef class Record:
    cdef readonly object _mapping
    cdef readonly tuple _values
