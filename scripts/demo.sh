#!/bin/sh
# Placeholder for `make demo` until `cheval run` exists.
echo "cheval demo: the task runner is not built yet, so there is nothing to evaluate."
echo "This build provides 'cheval version'; see README.md for the current state."
./cheval version
