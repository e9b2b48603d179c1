"""LLM providers behind one small Protocol, and the failover chain over them."""
