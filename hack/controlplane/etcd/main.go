// Command etcd is the etcd server, built from its published module so the local control plane
// needs no downloaded binary. It is its own module so etcd's dependency pins never fight Kubernetes'.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
