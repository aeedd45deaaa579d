({ init: function () {} })
