"""Flows: every conversation with the server, written once as a sans-I/O generator.

A flow yields what it needs (an engine operation to run, a connection to
open, bytes to send, a deadline) and receives the outcome; the drivers in
:mod:`pgwire.drivers` fulfil those requests, each in its own way of waiting.
"""
