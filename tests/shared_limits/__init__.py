"""Fly's limits shared by several processes through a real redis-server."""
