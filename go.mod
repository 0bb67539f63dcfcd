module github.com/tw-cli/tw-cli

go 1.26.8

require (
	github.com/go-resty/resty/v2 v2.17.2
	github.com/hiyosi/hawk v1.0.1
)

require golang.org/x/net v0.43.0 // indirect
