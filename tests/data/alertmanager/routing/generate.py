import itertools, subprocess, sys
vocab = {
 "scalars": [("v",["500","0500","1.10","1.1","true","True","0x1F","31","1e3","1000","-1",".inf","yes","0o17","1_000","+5"])],
 "ml-platform": [("team",["ml-platform","search"]),("severity",["page","ticket","info"]),("model",["ranker-v3","ranker-","fraud"]),("alertname",["SLOBurnFast"])],
 "teams": [("severity",["page","ticket","warning","info"]),("team",["payments","search","ranking","infra"]),("alertname",["NightlyBatchLate","ClusterDown"])],
 "nested": [("env",["prod","dev","staging"]),("service",["checkout","payments","ranker-v3","search"]),("severity",["page","ticket","info"]),("team",["ml-platform","ml-","payments"])],
}
for name, vs in vocab.items():
    lines=[]
    for combo in itertools.product(*[[None]+vals for _,vals in vs]):
        labels=[f"{k}={v}" for (k,_),v in zip(vs,combo) if v is not None]
        out=subprocess.run(["amtool","config","routes","test",f"--config.file={name}.yml"]+labels,capture_output=True,text=True)
        assert out.returncode==0, out
        lines.append(" ".join(labels)+" -> "+out.stdout.strip())
    open(f"{name}.receivers","w").write("# label set -> receivers, as printed by amtool 0.25 `config routes test`\n"+"\n".join(lines)+"\n")
    tree=subprocess.run(["amtool","config","routes","show",f"--config.file={name}.yml"],capture_output=True,text=True).stdout
    open(f"{name}.tree","w").write(tree)
