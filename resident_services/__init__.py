"""便民服务 (全市通办): catalogue, requests, consultation slots (issue 17)."""
