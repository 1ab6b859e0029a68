"""`reconcile daemon`: the scheduled loop (`loop`), its HTTP endpoints (`http`) and its
Prometheus metrics (`metrics`)."""
