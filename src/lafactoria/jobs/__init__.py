"""Job queues: where accepted generation jobs wait for a worker."""
