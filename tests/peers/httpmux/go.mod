module vigil.dev/tests/peers/httpmux

go 1.22
