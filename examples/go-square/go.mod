module example.com/square

go 1.19
