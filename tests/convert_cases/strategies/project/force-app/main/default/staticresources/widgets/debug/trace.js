not deployed
