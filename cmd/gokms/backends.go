package main

import "github.com/gokms/gokms/backend/all"

// backends opens every store address the binary is given (backend/all lists them).
var backends = all.Registry()
