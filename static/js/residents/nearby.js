/* 附议 on the report form: once the category and the pin are set, ask for open reports of the
   same category nearby (public text and photos only) and offer "这是同一个问题" (follow instead
   of filing). Polls the form's fields: the map sets the hidden lat/lng without input events. */
(function () {
  "use strict";
  var box = document.getElementById("nearby-reports");
  var form = document.getElementById("report-form");
  if (!box || !form) { return; }
  var labels = JSON.parse(document.getElementById("nearby-labels").textContent);
  var list = box.querySelector("ul");
  var category = form.querySelector("[name=category]");
  var lat = form.querySelector("[name=lat]");
  var lng = form.querySelector("[name=lng]");
  var csrf = form.querySelector("[name=csrfmiddlewaretoken]");
  var last = "";

  function item(report) {
    var li = document.createElement("li");
    li.dataset.publicId = report.public_id;
    var title = document.createElement("strong");
    title.textContent = report.category + " · " + report.area + " · " + report.distance_m + " m";
    li.appendChild(title);
    var text = document.createElement("p");
    text.textContent = report.text;
    li.appendChild(text);
    report.photos.forEach(function (url) {
      var img = document.createElement("img");
      img.src = url; img.alt = ""; img.className = "public-photo";
      li.appendChild(img);
    });
    if (report.followers) {
      var followers = document.createElement("small");
      followers.className = "followers";
      followers.textContent = labels.followers.replace("%(n)s", report.followers);
      li.appendChild(followers);
    }
    var follow = document.createElement("form");
    follow.method = "post";
    follow.action = report.follow_url;
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrfmiddlewaretoken"; token.value = csrf ? csrf.value : "";
    follow.appendChild(token);
    var button = document.createElement("button");
    button.type = "submit"; button.className = "follow-button"; button.textContent = labels.same;
    follow.appendChild(button);
    li.appendChild(follow);
    return li;
  }

  function check() {
    if (!category || !lat || !lng || !category.value || !lat.value || !lng.value) { return; }
    var key = category.value + "|" + lat.value + "|" + lng.value;
    if (key === last) { return; }
    last = key;
    var url = box.dataset.url + "?category=" + encodeURIComponent(category.value) +
      "&lat=" + encodeURIComponent(lat.value) + "&lng=" + encodeURIComponent(lng.value);
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { results: [] }; })
      .then(function (body) {
        list.replaceChildren();
        (body.results || []).forEach(function (report) { list.appendChild(item(report)); });
        box.hidden = !list.children.length;
      })
      .catch(function () { box.hidden = true; });
  }
  setInterval(check, 800);
  if (category) { category.addEventListener("change", check); }
})();
