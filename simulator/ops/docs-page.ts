// A self-contained page that renders /openapi.json: no CDN, no network, so it works on an air-gapped box.
export const DOCS_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ktv-harness simulator API</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
main{max-width:1100px;margin:0 auto;padding:16px 24px}
section.op{background:#fff;border:1px solid #d0d7de;border-radius:6px;margin:10px 0}
section.op>summary{cursor:pointer;padding:8px 12px;list-style:none;display:flex;gap:10px;align-items:center}
.m{font:600 12px monospace;padding:2px 8px;border-radius:4px;color:#fff;min-width:48px;text-align:center}
.GET{background:#0969da}.POST{background:#1a7f37}.PUT{background:#9a6700}.PATCH{background:#8250df}.DELETE{background:#cf222e}
code.path{font:600 13px monospace}.sum{color:#57606a}.tag{font-size:11px;color:#57606a;border:1px solid #d0d7de;border-radius:10px;padding:0 6px}
details pre{background:#f6f8fa;margin:0 12px 12px;padding:8px;border-radius:4px;overflow:auto;font-size:12px}
h3{margin:8px 12px 4px;font-size:13px}
</style></head><body><header><h1>ktv-harness simulator API</h1><div id="ver"></div></header>
<main><p>Generated from the same route schemas that validate requests. Raw document: <a href="openapi.json">openapi.json</a>.</p><div id="ops">loading…</div></main>
<script>
fetch("openapi.json").then(r=>r.json()).then(doc=>{
  document.getElementById("ver").textContent=doc.info.title+" "+doc.info.version;
  const root=document.getElementById("ops");root.textContent="";
  const esc=s=>String(s).replace(/[&<>]/g,c=>({"&":"&amp;","<":"&lt;",">":"&gt;"}[c]));
  for(const [path,item] of Object.entries(doc.paths||{})){
    for(const [method,op] of Object.entries(item)){
      const d=document.createElement("details");d.className="op";
      const parts=[];
      if(op.parameters&&op.parameters.length)parts.push("<h3>parameters</h3><pre>"+esc(JSON.stringify(op.parameters,null,2))+"</pre>");
      if(op.requestBody)parts.push("<h3>request body</h3><pre>"+esc(JSON.stringify(op.requestBody,null,2))+"</pre>");
      if(op.responses)parts.push("<h3>responses</h3><pre>"+esc(JSON.stringify(op.responses,null,2))+"</pre>");
      d.innerHTML='<summary><span class="m '+method.toUpperCase()+'">'+method.toUpperCase()+'</span><code class="path">'+esc(path)+'</code><span class="sum">'+esc(op.summary||"")+'</span>'+(op.tags||[]).map(t=>'<span class="tag">'+esc(t)+'</span>').join("")+'</summary>'+parts.join("");
      root.appendChild(d);
    }
  }
});
</script></body></html>`;
