// Printed at the start of every full test run so the log says which runtime the results came from.
console.log(`kubeop test run: Node.js ${process.version} on ${process.platform}/${process.arch}`);
