//go:build !linux

package main

// subprocessWorkloads is empty where package aio/subprocess is not built
// (it needs Linux: pidfd and waitid).
func subprocessWorkloads() []workload { return nil }
