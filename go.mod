module github.com/tw-cli/tw-cli

go 1.26.8
