// Small behaviours shared by every page. htmx and Alpine do the rest.
document.addEventListener("htmx:responseError", (event) => {
  const box = document.querySelector("#htmx-error") || document.createElement("div");
  box.id = "htmx-error";
  box.className = "msg msg-error";
  box.setAttribute("role", "alert");
  box.textContent = "操作未成功（" + event.detail.xhr.status + "），请重试或刷新页面。";
  document.querySelector("main").prepend(box);
});
