// Package e2e holds the end-to-end tests: the real azs-courier binary, built
// once in TestMain, driven as a user would against the simulators.
package e2e
